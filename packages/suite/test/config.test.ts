import { describe, expect, it } from 'vitest'
import { FST_OPSKIT_INVALID_CONFIG, loadConfig } from '@opskit/suite'
import { configError as problemsOf } from '../../../test-utils/env-config.js'


describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      appName: 'app',
      appVersion: '0.0.0',
      environment: 'development',
      logLevel: 'info',
      logFormat: 'json',
      corsOrigins: [],
      rateLimit: { enabled: true, requests: 100, periodSeconds: 60 },
    })
  })

  it('reads every variable the contract lists', () => {
    const config = loadConfig({
      APP_NAME: 'bookings',
      APP_VERSION: '1.4.2',
      ENVIRONMENT: 'production',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'pretty',
      LOG_FILE: '/var/log/bookings/app.log',
      DATABASE_URL: 'postgres://app:s3cret@db.internal:5432/bookings',
      REDIS_URL: 'rediss://cache.internal:6380',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/',
      RATE_LIMIT_ENABLED: 'false',
      RATE_LIMIT_REQUESTS: '250',
      RATE_LIMIT_PERIOD: '30',
      METRICS_TOKEN: 'scrape-me-please',
    })
    expect(config).toEqual({
      appName: 'bookings',
      appVersion: '1.4.2',
      environment: 'production',
      logLevel: 'warn',
      logFormat: 'pretty',
      logFile: '/var/log/bookings/app.log',
      databaseUrl: 'postgres://app:s3cret@db.internal:5432/bookings',
      redisUrl: 'rediss://cache.internal:6380',
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      rateLimit: { enabled: false, requests: 250, periodSeconds: 30 },
      metricsToken: 'scrape-me-please',
    })
  })

  it('treats blank variables as unset and defaults to process.env', () => {
    expect(loadConfig({ LOG_LEVEL: '  ', RATE_LIMIT_REQUESTS: '' }).rateLimit.requests).toBe(100)
    expect(loadConfig().appName).toBeTypeOf('string')
  })

  it('accepts the usual spellings of booleans and "*" for CORS', () => {
    expect(loadConfig({ RATE_LIMIT_ENABLED: 'off' }).rateLimit.enabled).toBe(false)
    expect(loadConfig({ RATE_LIMIT_ENABLED: '1' }).rateLimit.enabled).toBe(true)
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*'])
  })

  it('names every bad variable in one error, with what was expected', () => {
    const err = problemsOf({
      ENVIRONMENT: 'prod',
      LOG_LEVEL: 'verbose',
      LOG_FORMAT: 'xml',
      DATABASE_URL: 'mysql://root@db/app',
      REDIS_URL: 'not a url',
      CORS_ORIGINS: 'https://ok.example.com,ftp://files.example.com',
      RATE_LIMIT_ENABLED: 'maybe',
      RATE_LIMIT_REQUESTS: 'abc',
      RATE_LIMIT_PERIOD: '-5',
      APP_VERSION: 'one two',
    })
    expect(err.code).toBe('FST_OPSKIT_INVALID_CONFIG')
    expect(err).toBeInstanceOf(FST_OPSKIT_INVALID_CONFIG)
    expect(String(err)).toMatch(/^OpskitConfigError \[FST_OPSKIT_INVALID_CONFIG\]: @opskit\/suite: invalid configuration/)
    expect(err.problems.map((p) => p.variable).sort()).toEqual([
      'APP_VERSION',
      'CORS_ORIGINS',
      'DATABASE_URL',
      'ENVIRONMENT',
      'LOG_FORMAT',
      'LOG_LEVEL',
      'RATE_LIMIT_ENABLED',
      'RATE_LIMIT_PERIOD',
      'RATE_LIMIT_REQUESTS',
      'REDIS_URL',
    ])
    expect(err.message).toContain('RATE_LIMIT_REQUESTS: expected a positive integer, got "abc"')
    expect(err.message).toContain('RATE_LIMIT_PERIOD: expected a positive integer, got "-5"')
    expect(err.message).toContain('ENVIRONMENT: expected one of development | staging | production, got "prod"')
    expect(err.message).toContain('DATABASE_URL: expected a postgres:// or postgresql:// URL')
    expect(err.message).toContain('REDIS_URL: expected a redis:// or rediss:// URL')
    expect(err.message).toContain('"ftp://files.example.com"')
    expect(err.message).not.toContain('https://ok.example.com')
  })

  it('reads LOG_DIR, LOG_FILE_MAX_BYTES and LOG_FILE_BACKUP_COUNT, and names each bad one with the others', () => {
    expect(loadConfig({ LOG_DIR: '/var/log/bookings', LOG_FILE_MAX_BYTES: '5242880', LOG_FILE_BACKUP_COUNT: '29' })).toMatchObject({
      logDir: '/var/log/bookings',
      logFileMaxBytes: 5242880,
      logFileBackupCount: 29,
    })
    const err = problemsOf({ LOG_DIR: 'lo\u0007gs', LOG_FILE_MAX_BYTES: '10m', LOG_FILE_BACKUP_COUNT: '0', LOG_LEVEL: 'loud' })
    expect(err.problems.map((p) => p.variable).sort()).toEqual(['LOG_DIR', 'LOG_FILE_BACKUP_COUNT', 'LOG_FILE_MAX_BYTES', 'LOG_LEVEL'])
    expect(err.message).toContain('LOG_FILE_MAX_BYTES: expected a positive integer, got "10m"')
    expect(err.message).toContain('LOG_FILE_BACKUP_COUNT: expected a positive integer, got "0"')
  })

  it('rejects fractional and oversized numbers', () => {
    const err = problemsOf({ RATE_LIMIT_REQUESTS: '1.5', RATE_LIMIT_PERIOD: '99999999999999999999' })
    expect(err.problems.map((p) => p.variable)).toEqual(['RATE_LIMIT_REQUESTS', 'RATE_LIMIT_PERIOD'])
  })

  it('never echoes a secret: URL passwords and METRICS_TOKEN stay out of the message', () => {
    const err = problemsOf({
      DATABASE_URL: 'mysql://admin:hunter2-db-password@db.internal/app',
      REDIS_URL: 'http://:hunter2-redis-password@cache.internal:6379',
      METRICS_TOKEN: 'has spaces hunter2-token',
    })
    expect(err.problems.map((p) => p.variable)).toEqual(['DATABASE_URL', 'REDIS_URL', 'METRICS_TOKEN'])
    expect(err.message).not.toContain('hunter2')
    expect(err.message).not.toContain('admin')
    expect(err.message).toContain('got a mysql:// URL')
  })
})
