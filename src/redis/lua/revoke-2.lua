--[[ Revoke one session.
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the session record
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id
ARGV[4] revocation channel ('' = do not publish)
Reply: 'late' (nothing written) after the deadline; else 1 if the session was live, else 0
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local live, soloSid, soloExpiresAt
local solo = soloValue(KEYS[1])
if solo then soloSid, soloExpiresAt = soloEntry(solo) end
if soloSid == ARGV[3] then
  -- The user's only session, kept in the index key (see record.lua).
  live = soloExpiresAt > now
  redis.call('DEL', KEYS[1])
else
  live = isLiveKey(KEYS[2], now)
  -- (pcall: the index key may hold another session, solo, once an index was lost.)
  redis.pcall('ZREM', KEYS[1], ARGV[3])
  redis.call('DEL', KEYS[2])
end
if not live then return 0 end
announce(ARGV[4], now, ARGV[3])
return 1
