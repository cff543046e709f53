-- wrk script of bench/pixel_rps.py:
--
--   wrk -t T -c C -d D -s bench/pixel_wrk.lua URL -- PATHS_FILE START THREADS EXPECTED_BYTES
--
-- PATHS_FILE holds one request path a line. Thread i starts at line
-- START + i * (lines / THREADS) (wrapping around) and goes on line after
-- line, so the threads do not ask for the same path at the same time and
-- every path comes back only after all the others. Every response whose
-- status is not 200, or whose body is not EXPECTED_BYTES long, is counted.
-- done() prints one JSON line: requests, seconds, the percentiles of the
-- latency (microseconds), wrk's socket errors, these counts, and the most
-- answers one thread got (how far it went in its part of the list).

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if #line > 0 then table.insert(paths, line) end
   end
   local start, nthreads = tonumber(args[2]), tonumber(args[3])
   expected = tonumber(args[4])
   index = (start + id * math.floor(#paths / nthreads)) % #paths
   non200, bad_body, answers, first_status = 0, 0, 0, nil
   statuses = {}
end

function request()
   local path = paths[index + 1]
   index = (index + 1) % #paths
   return wrk.format("GET", path)
end

function response(status, headers, body)
   answers = answers + 1
   if status ~= 200 then
      non200 = non200 + 1
      statuses[status] = (statuses[status] or 0) + 1
   elseif body == nil or #body ~= expected then
      bad_body = bad_body + 1
   end
end

function done(summary, latency, requests)
   local non200_total, bad_total, answers_total, most = 0, 0, 0, 0
   local codes = {}
   for _, thread in ipairs(threads) do
      non200_total = non200_total + thread:get("non200")
      bad_total = bad_total + thread:get("bad_body")
      answers_total = answers_total + thread:get("answers")
      most = math.max(most, thread:get("answers"))
      for code, n in pairs(thread:get("statuses")) do
         codes[#codes + 1] = string.format('"%d": %d', code, n)
      end
   end
   local e = summary.errors
   io.write(string.format(
      '{"wrk": true, "requests": %d, "seconds": %.6f, "bytes": %d, ' ..
      '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
      '"answers": %d, "max_per_slice": %d, "non200": %d, "bad_body": %d, "statuses": {%s}, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
      summary.requests, summary.duration / 1e6, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      answers_total, most, non200_total, bad_total, table.concat(codes, ", "),
      e.connect, e.read, e.write, e.status, e.timeout))
end
