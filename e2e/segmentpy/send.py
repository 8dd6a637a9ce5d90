"""Drives Segment's own Python library (segment-analytics-python) against
spoor's collector: the URL and write key from the environment, then every
kind of call, flushed. e2e/segment_libs_test.go runs it and checks what the
store holds."""
import json
import os

from segment.analytics import Client

errors = []
client = Client(write_key=os.environ["WRITE_KEY"], host=os.environ["SPOOR_URL"], upload_size=20,
                max_retries=3, on_error=lambda e, batch: errors.append(str(e)))
n = int(os.environ.get("TRACKS", "50"))
client.identify("py-user-1", {"email": "Peter.Gibbons@example.com", "plan": "pro"})
for i in range(n):
    client.track("py-user-1", "Item Purchased", {"revenue": 14.99, "item": i},
                 context={"campaign": {"name": "spring", "source": "news"}})
client.page(anonymous_id="py-anon-1", name="Pricing", properties={"url": "https://shop.example/pricing"})
client.screen("py-user-1", name="Home")
client.group("py-user-1", "initech", {"employees": 420})
client.alias("py-anon-1", "py-user-1")
client.flush()
client.join()
print(json.dumps({"sent": n + 5, "errors": len(errors), "first": errors[:3]}))
