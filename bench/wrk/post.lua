-- POSTs one fixed JSON body with fixed headers; bench/run.py passes them in files and prints
-- the summary this script writes as its last line of output (JSON).
--   WRK_BODY_FILE: the request body; WRK_HEADERS_FILE: "Name: value" lines.
local function read(path)
  local file = assert(io.open(path, "rb"))
  local content = file:read("*a")
  file:close()
  return content
end

wrk.method = "POST"
wrk.body = read(os.getenv("WRK_BODY_FILE"))
wrk.headers["Content-Type"] = "application/json"
for line in read(os.getenv("WRK_HEADERS_FILE")):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  wrk.headers[name] = value
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "microseconds": %d, "p50": %d, "p90": %d, "p99": %d, "max": %d, '
      .. '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
