/** Nest injection tokens (explicit @Inject everywhere: tsx emits no decorator metadata). */
export const ES2_SERVICE = Symbol('SmDpEs2Service');
export const INVENTORY_API = Symbol('SmDpInventoryApi');
export const NOTIFIER = Symbol('SmDpNotifier');
export const TRANSACTION_LOG = Symbol('SmDpTransactionLog');
export const MNO_OF_API_KEY = Symbol('SmDpMnoOfApiKey');
