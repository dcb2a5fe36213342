-- Scenario 1: the bare endpoint (one INSERT, one SELECT by key) of bench/load.py's app.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
wrk.method = "POST"
