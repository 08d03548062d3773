/** Nest injection tokens (explicit @Inject everywhere: tsx emits no decorator metadata). */
export const REGISTRY = Symbol('OwnerRegistry');
export const AUTHENTICATOR = Symbol('OwnerRegistryAuthenticator');
export const JWKS = Symbol('OwnerRegistryJwks');
