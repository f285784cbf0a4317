import asyncio, threading, tempfile, sys
from pathlib import Path
import uvicorn
from bench import queue_bench as q
from rathaus.app import create_app
from rathaus.clock import ManualClock
from rathaus.settings import Settings
from tests.conftest import free_port

plan = q.Plan(counters=8, appointments=300, walk_ins=300, clients=200, rounds=1, calls_per_round=60, fanout_samples=3, interval=0.8)
tmp = Path(tempfile.mkdtemp())
(tmp/"o.toml").write_text(q.office_toml(plan))
url = f"sqlite+aiosqlite:///{tmp/'q.db'}"
asyncio.run(q.prepare(url, tmp/"o.toml"))
settings = Settings(database_url=url, secret_key="x"*40, environment="production", scheduler=False, booking_rate_limit_per_minute=0).validated()
app = create_app(settings, clock=ManualClock(q.NOW))
port = free_port()
server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", loop=sys.argv[1]))
t = threading.Thread(target=server.run, daemon=True); t.start()
import time
while not server.started: time.sleep(0.05)
class S: url=f"http://127.0.0.1:{port}"
try:
    print(asyncio.run(q.play(S, plan)))
except Exception as e:
    print("FAIL", e)
    hub = app.state.queue_hub
    for office, feed in hub._feeds.items():
        print(office, feed.requested, feed.completed, feed.reader, len(feed.stamps))
    import sys
    for th in threading.enumerate(): print(th)
server.should_exit = True
