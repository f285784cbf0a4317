import sys
from bench import queue_bench as q
q.Plan.full = classmethod(lambda cls: cls(counters=8, appointments=int(sys.argv[1]), walk_ins=int(sys.argv[1]), clients=int(sys.argv[2]), rounds=1, calls_per_round=int(sys.argv[3]), fanout_samples=3))
raise SystemExit(q.main([]))
