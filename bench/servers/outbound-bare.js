// Bench server `without-outbound` of the `outbound` group: the outbound-heavy route, nothing observing the fetch.
import { outboundServer } from './outbound-shared.js'

await outboundServer('without-outbound')
