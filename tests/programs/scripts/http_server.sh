# The issue's loopback example: python's http.server on the sandbox's own 127.0.0.1 and a
# urllib client; prints the status. The client retries while the server starts.
python3 -m http.server 18471 --bind 127.0.0.1 >/dev/null 2>&1 &
server=$!
python3 - <<'PY'
import time, urllib.request as u
for _ in range(200):
    try:
        print(u.urlopen("http://127.0.0.1:18471/").status)
        break
    except OSError:
        time.sleep(0.05)
PY
kill $server
wait $server 2>/dev/null
exit 0
