--[[ Bind a live session to a key (the record's binding field, see README.md); a binding is for
the session's life. The record keeps its TTL: binding is not a use of the session.
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the session record
KEYS[3] the user's revoke-all mark (see revoke-all-3.lua)
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] deadline ms ('' = none)
ARGV[3] session id       ARGV[4] binding, as the record keeps it (../compact-fields.ts)
ARGV[5] the same binding as text (`<kind>:<thumbprint>`), as a layout 1 record kept it
Reply: 'late' (nothing written) after the deadline; else 'bound' (now, or already, bound to it),
'conflict' (bound to another, unchanged) or 'missing' (no live session)
]]
local now = nowMs(ARGV[1])
if isLate(now, ARGV[2]) then return 'late' end
local record, key, layout2 = liveRecord(KEYS[1], KEYS[2], ARGV[3], now)
if not record or isRevokedByMark(KEYS[3], record[2], ARGV[3]) then return 'missing' end
local binding = record[13] or ''
-- (A layout 1 record keeps the binding as text: ARGV[5].)
if binding == ARGV[4] or binding == ARGV[5] then return 'bound' end
if binding ~= '' then return 'conflict' end
-- Positions before 13 that a record written by an older layout lacks.
record[11], record[12], record[13] = record[11] or 0, record[12] or '', ARGV[4]
redis.call('SET', key, encodeRecord(record, layout2), 'KEEPTTL')
return 'bound'
