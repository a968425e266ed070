import createError from '@fastify/error'

/** `GET <prefix>/api/<part>` of a part whose plugin is not registered. */
export const FST_OPSKIT_CONSOLE_PART_MISSING = createError('FST_OPSKIT_CONSOLE_PART_MISSING', '%s is not registered in this app', 404)
