// The routes every server of the `metrics` bench group serves: `/hello` and fifty routes `/r0` … `/r49`,
// so the metrics plugins keep 51 route series alive, as a real service does.
export const ROUTE_COUNT = 50

export const PATHS = ['/hello', ...Array.from({ length: ROUTE_COUNT }, (_, i) => `/r${i}`)]

export function registerMetricsRoutes(app) {
  app.get('/hello', async () => ({ hello: 'world' }))
  for (let i = 0; i < ROUTE_COUNT; i++) {
    const body = { route: i }
    app.get(`/r${i}`, async () => body)
  }
}
