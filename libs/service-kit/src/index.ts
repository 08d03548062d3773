/**
 * @rsp/service-kit — the shape every service app shares (docs/architecture.md "One shape"): resources and
 * workers as Nest factory providers with lifecycle hooks, and one hybrid application per service.
 */
export * from './lifecycle';
export * from './service-app';
export * from './owner-status-feed';
export * from './logging';
export * from './log-text';
export * from './transaction-log';
export * from './transactions.controller';
export * from './notifications.controller';
export * from './http-refusals';
