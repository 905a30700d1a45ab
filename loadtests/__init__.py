"""Load tests and benchmarks: `make bench` (bench_api.py) and `make loadtest` (locustfile.py)."""
