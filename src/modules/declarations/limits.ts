/**
 * Limits shared by the API, the service and the console. Kept free of imports so the web console can use
 * them without bundling the server's schema library.
 */
export const MAX_ITEMS = 50
export const MAX_BATCH = 500
export const CLIENT_REF_MAX = 64
