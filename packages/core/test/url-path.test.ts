import { describe, expect, it } from 'vitest'
import { pathOf } from '@opskit/core'

describe('pathOf', () => {
  it('drops the query string and keeps the path as sent', () => {
    expect(pathOf('/orders/7?token=abc&x=1')).toBe('/orders/7')
    expect(pathOf('/orders/7')).toBe('/orders/7')
    expect(pathOf('/?')).toBe('/')
    expect(pathOf('/a%3Fb?c')).toBe('/a%3Fb')
  })
})
