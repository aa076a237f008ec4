# SPDX-License-Identifier: BSD-3-Clause
# chat-lab.sh - sourced by tools/run-chat-demo.sh and the chat tests (after
# tests/common/lib.sh): the npm packages from the lock file, and the chat
# gateway started in the lab's gateway namespace with a host-side proxy
# to it (the gateway listens on the namespace's veth address and on a
# unix socket; proxy.js, on the host, forwards 127.0.0.1:PORT to that
# socket).  Needs hc_lab_up and hc_appliance_start done (HC_NSG, HC_KEYS).

HC_CHAT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# chat_npm_ci [npm options...]: node_modules exactly as package-lock.json
# says (npm ci), unless it is already installed from this very lock file.
chat_npm_ci() {
	local stamp="$HC_CHAT_DIR/node_modules/.hc-lock.sha256" want
	want=$(sha256sum "$HC_CHAT_DIR/package-lock.json" | cut -d' ' -f1)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		return 0
	fi
	(cd "$HC_CHAT_DIR" && npm ci --no-audit --no-fund --loglevel=error "$@") || return 1
	echo "$want" > "$stamp"
}

# chat_gateway_start OUT GATEWAY_ID [gateway.js options...]: the gateway
# in the gateway namespace, on $HC_GW_IP:8080 and OUT/chat-GW.sock, its
# log in OUT/chat-GW.log; waits until it listens.  Sets HC_CHAT_PID.
chat_gateway_start() {
	local out=$1 id=$2 auth=(--keys "$HC_KEYS")
	shift 2
	case " $* " in *" --no-auth "*) auth=() ;; esac
	rm -f "$out/chat-$id.ready"
	ip netns exec "$HC_NSG" node "$HC_CHAT_DIR/gateway.js" --appliance "$HC_APP_IP" \
		--gateway-id "$id" "${auth[@]}" --listen "$HC_GW_IP:$((8079 + id))" \
		--unix "$out/chat-$id.sock" --ready "$out/chat-$id.ready" "$@" \
		2> "$out/chat-$id.log" &
	HC_CHAT_PID=$!
	hc_wait 60 "the chat gateway listens" test -s "$out/chat-$id.ready" || return 1
}

# chat_proxy_start OUT GATEWAY_ID HOST:PORT: the host's way in (proxy.js).
# Sets HC_PROXY_PID and HC_CHAT_URL (http://HOST:PORT/).
chat_proxy_start() {
	local out=$1 id=$2 listen=$3
	rm -f "$out/proxy-$id.ready"
	node "$HC_CHAT_DIR/proxy.js" "$out/chat-$id.sock" "$listen" --ready "$out/proxy-$id.ready" \
		2> "$out/proxy-$id.log" &
	HC_PROXY_PID=$!
	hc_wait 30 "the proxy listens" test -s "$out/proxy-$id.ready" || return 1
	HC_CHAT_URL="http://$(cat "$out/proxy-$id.ready")/"
}
