import { describe, expect, it } from 'vitest'
import type { DeviceEntry } from '../bindings/DeviceEntry'
import { actions, deviceState, ordered, sameFingerprint, villageLimit, waiting } from './devices'

function device(over: Partial<DeviceEntry>): DeviceEntry {
  return {
    held_files: 0,
    device: 'd',
    name: '新文村-笔记本',
    fingerprint: '12345 67890 12345 67890 12345 67890',
    public_key: 'ab',
    confirmed: false,
    village: null,
    own: false,
    county_vouched: false,
    ...over,
  }
}

describe('the 设备 box', () => {
  it.each([
    [{ own: true }, '本机'],
    [{ confirmed: true }, '已确认'],
    [{ confirmed: true, county_vouched: true }, '已确认（县里担保）'],
    [{}, '待确认设备'],
  ])('names the state of %o as %s', (over, word) => {
    expect(deviceState(device(over))).toBe(word)
  })

  it('names the village a device is limited to', () => {
    const names = new Map([['530826103201', '新文村']])
    expect(villageLimit(device({ confirmed: true, village: '530826103201' }), names)).toBe('限 新文村（530826103201）')
    expect(villageLimit(device({ confirmed: true, village: '530826103209' }), names)).toBe('限 530826103209 村')
    expect(villageLimit(device({ confirmed: true }), names)).toBe('不限村')
    expect(villageLimit(device({}), names)).toBe('')
  })

  it('says what waits and offers the matching action', () => {
    expect(waiting(device({}))).toBe('')
    expect(waiting(device({ held_files: 2 }))).toContain('确认后合并')
    expect(waiting(device({ confirmed: true, village: '530826103201', held_files: 1 }))).toContain('超出本村')
    // A confirmed device with no village limit has nothing waiting outside a village.
    expect(waiting(device({ confirmed: true, held_files: 1 }))).toBe('')
    expect(actions(device({}))).toEqual({ confirm: true, merge: false, drop: false, village: false, unconfirm: false })
    // A 待确认设备 whose changes wait: confirm them, or decline them.
    expect(actions(device({ held_files: 2 }))).toEqual({ confirm: true, merge: false, drop: true, village: false, unconfirm: false })
    expect(actions(device({ confirmed: true, village: '530826103201', held_files: 1 }))).toEqual({
      confirm: false,
      merge: true,
      drop: true,
      village: true,
      unconfirm: true,
    })
    // Not limited to a village: nothing of it waits here (a file listed for it waits for others).
    expect(actions(device({ confirmed: true, held_files: 1 }))).toEqual({ confirm: false, merge: false, drop: false, village: true, unconfirm: true })
    expect(actions(device({ confirmed: true }))).toEqual({ confirm: false, merge: false, drop: false, village: true, unconfirm: true })
    // Confirmed on the county's word: 取消确认 would not last past the next sync.
    expect(actions(device({ confirmed: true, county_vouched: true })).unconfirm).toBe(false)
    expect(actions(device({ own: true, held_files: 1 }))).toEqual({ confirm: false, merge: false, drop: false, village: false, unconfirm: false })
  })

  it('offers only 不合并 for a second 安全码 of a device whose key is confirmed', () => {
    const real = device({ confirmed: true, fingerprint: '11111 11111 11111 11111 11111 11111' })
    const rival = device({ held_files: 1, fingerprint: '22222 22222 22222 22222 22222 22222' })
    const all = [real, rival]
    expect(deviceState(rival, all)).toBe('安全码不符（疑似冒充）')
    expect(waiting(rival, all)).toContain('不合并')
    expect(actions(rival, all)).toEqual({ confirm: false, merge: false, drop: true, village: false, unconfirm: false })
    // The confirmed key itself, and a candidate of a device with no confirmed key, as before.
    expect(deviceState(real, all)).toBe('已确认')
    const second = device({ held_files: 1, fingerprint: '3' })
    expect(actions(second, [device({}), second])).toEqual({ confirm: true, merge: false, drop: true, village: false, unconfirm: false })
  })

  it('lists what waits first and this copy last', () => {
    const list = ordered([
      device({ name: '本机', own: true }),
      device({ name: '乙', confirmed: true }),
      device({ name: '甲' }),
      device({ name: '丙', confirmed: true, village: '530826103201', held_files: 1 }),
    ])
    expect(list.map((d) => d.name)).toEqual(['丙', '甲', '乙', '本机'])
  })

  it('compares a typed 安全码 by its digits', () => {
    const fp = '12345 67890 12345 67890 12345 67890'
    expect(sameFingerprint('123456789012345678901234567890', fp)).toBe(true)
    expect(sameFingerprint('12345-67890-12345-67890-12345-67890', fp)).toBe(true)
    expect(sameFingerprint('12345 67890 12345 67890 12345 67891', fp)).toBe(false)
    expect(sameFingerprint('', fp)).toBe(false)
  })
})
