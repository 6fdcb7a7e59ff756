--[[ Replace a live session's authentication (how and when the user last proved who they are),
nothing else: no rotation, and the record keeps its TTL.
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the session record
KEYS[3] the user's revoke-all mark (see revoke-all-3.lua)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id       ARGV[4] authentication
Reply: 'late' (nothing written) after the deadline; else 1 updated, 0 no live session
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local record, key, layout2 = liveRecord(KEYS[1], KEYS[2], ARGV[3], now)
if not record or isRevokedByMark(KEYS[3], record[2], ARGV[3]) then return 0 end
-- Positions before 12 that a record written by an older layout lacks.
record[11], record[12], record[13] = record[11] or 0, ARGV[4], record[13] or ''
redis.call('SET', key, encodeRecord(record, layout2), 'KEEPTTL')
return 1
