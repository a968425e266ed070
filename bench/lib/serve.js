// Shared tail of every bench server: listen on PORT, print `ready` for the harness, close on signals.
export async function serve(app) {
  await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  console.log('ready')
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      app.close().then(() => process.exit(0), () => process.exit(1))
    })
  }
}

/** The log file of a server: `LOG_FILE` from the harness, else one in the temp dir. */
export async function logFile(name) {
  if (process.env.LOG_FILE) return process.env.LOG_FILE
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  return join(process.env.BENCH_LOG_DIR ?? tmpdir(), `opskit-bench-${name}-${process.pid}.log`)
}
