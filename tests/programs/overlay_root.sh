#!/bin/bash
# The root is an overlay: the guest can change /usr and /etc (copy-up, whiteouts, opaque
# directories), sees its own changes, and the host's files stay exactly as they were.
set -eu
ward=$1
marker=ward-overlay-test-$$
before=$(stat -c '%s %Y' /etc/os-release)
out=$(timeout 60 "$ward" run -- /bin/sh -c "
	touch /usr/bin/$marker && ls /usr/bin/$marker
	echo changed >> /etc/os-release && tail -1 /etc/os-release
	rm /etc/os-release; [ -e /etc/os-release ] || echo removed
	rm -rf /opt/$marker-d; mkdir -p /opt/$marker-d/sub && echo deep > /opt/$marker-d/sub/f && cat /opt/$marker-d/sub/f
	mv /usr/bin/$marker /usr/bin/$marker-renamed && ls /usr/bin/$marker-renamed
	ls -la /usr | head -3 | tail -2 | wc -l
")
expected="/usr/bin/$marker
changed
removed
deep
/usr/bin/$marker-renamed
2"
if [ "$out" != "$expected" ]; then
	echo "FAIL: inside the sandbox got:"; echo "$out"; exit 1
fi
for p in /usr/bin/$marker /usr/bin/$marker-renamed /opt/$marker-d; do
	if [ -e "$p" ]; then echo "FAIL: $p appeared on the host"; rm -rf "$p"; exit 1; fi
done
[ "$(stat -c '%s %Y' /etc/os-release)" = "$before" ] || { echo "FAIL: the host's /etc/os-release changed"; exit 1; }
echo PASS
