/** What `fn` writes to `process.stderr`, kept from the terminal (pino-roll and Node print warnings there). */
export async function stderrOf(fn: () => Promise<void>): Promise<string[]> {
  const chunks: string[] = []
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk))
    return true
  }) as typeof process.stderr.write
  try {
    await fn()
  } finally {
    process.stderr.write = write
  }
  return chunks
}
