--[[ Replace a live session's authentication (how and when the user last proved who they are),
nothing else: no rotation, and the record keeps its TTL.
KEYS[1] the session record      KEYS[2] the user's revoke-all mark (see revoke-all-3.lua)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id       ARGV[4] authentication
Reply: 'late' (nothing written) after the deadline; else 1 updated, 0 no live session
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local packed = redis.call('GET', KEYS[1])
if not packed or not isLiveKey(KEYS[1], now) then return 0 end
local record = cmsgpack.unpack(packed)
if isRevokedByMark(KEYS[2], record[2], ARGV[3]) then return 0 end
-- Positions before 12 that a record written by an older layout lacks.
record[11], record[12], record[13] = record[11] or 0, ARGV[4], record[13] or ''
redis.call('SET', KEYS[1], cmsgpack.pack(record), 'KEEPTTL')
return 1
