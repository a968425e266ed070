export { opskitOutbound, default } from './plugin.js'
export { FST_OPSKIT_OUTBOUND_INVALID_OPTION } from './options.js'
export type { OpskitOutboundOptions, BodyPreviewOptions } from './options.js'
