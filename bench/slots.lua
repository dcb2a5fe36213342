-- Scenario 2: the slot listing (the URL is given on wrk's command line).
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
wrk.headers["Accept"] = "application/json"
