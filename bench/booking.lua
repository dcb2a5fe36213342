-- Scenario 3: every request a new citizen asking for one of the same 200 slots.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local slots = {}
local counter = 0
local service = os.getenv("BENCH_SERVICE")

function init(args)
  for line in io.lines(os.getenv("BENCH_SLOTS_FILE")) do
    if line ~= "" then table.insert(slots, line) end
  end
  math.randomseed(id * 7919)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"service": "%s", "start": "%s", "name": "Last Probe %d-%d", "email": "t%d-%d@bench.example", "language": "de"}',
    service, slots[math.random(#slots)], id, counter, id, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Accept"] = "application/json"}, body)
end
