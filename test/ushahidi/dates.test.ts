import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSluiceError } from '../../src/errors.js';
import { assertTimeZone, v2LocalDateToEden, v5DateToEden } from '../../src/ushahidi/dates.js';

describe('Ushahidi dates', () => {
  it('turns v5 ISO 8601 with a colon-less offset into an Eden UTC timestamp', () => {
    assert.equal(v5DateToEden('2014-09-29T14:10:16+0000'), '2014-09-29T14:10:16');
    assert.equal(v5DateToEden('2014-09-29T14:10:16+0200'), '2014-09-29T12:10:16');
    assert.equal(v5DateToEden('2014-11-11T08:40:51+00:00'), '2014-11-11T08:40:51');
    assert.equal(v5DateToEden('2024-05-02T09:14:05.000000Z'), '2024-05-02T09:14:05');
    assert.equal(v5DateToEden(null), undefined);
    assert.equal(v5DateToEden(''), undefined);
    assert.equal(v5DateToEden('yesterday'), undefined);
  });

  it('reads v2 local dates in the deployment time zone, across daylight saving time', () => {
    assert.equal(v2LocalDateToEden('2010-01-15 14:20:00', 'America/Port-au-Prince'), '2010-01-15T19:20:00');
    assert.equal(v2LocalDateToEden('2010-01-15 14:20:00', 'UTC'), '2010-01-15T14:20:00');
    // New York: EST (-5) in January, EDT (-4) in July.
    assert.equal(v2LocalDateToEden('2021-01-10 08:00:00', 'America/New_York'), '2021-01-10T13:00:00');
    assert.equal(v2LocalDateToEden('2021-07-10 08:00:00', 'America/New_York'), '2021-07-10T12:00:00');
    assert.equal(v2LocalDateToEden('2021-03-14 01:59:59', 'America/New_York'), '2021-03-14T06:59:59');
    assert.equal(v2LocalDateToEden('2021-03-14 03:00:00', 'America/New_York'), '2021-03-14T07:00:00');
    assert.equal(v2LocalDateToEden('2015-04-25 11:56:00', 'Asia/Kathmandu'), '2015-04-25T06:11:00');
    assert.equal(v2LocalDateToEden('15/01/2010', 'UTC'), undefined);
  });

  it('refuses an unknown time zone with a stable code', () => {
    assert.throws(() => assertTimeZone('Mars/Olympus_Mons'), (error) => isSluiceError(error) && error.code === 'USHAHIDI_BAD_TIMEZONE');
  });
});
