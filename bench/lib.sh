# Shared by the benchmarks (sourced).

# need_tools COMMAND:PACKAGE...: crcr's build dependencies, then the Debian packages of the
# commands that are missing.
need_tools() {
  scripts/deps.sh
  local missing=() tool
  for tool in "$@"; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
  done
  [ ${#missing[@]} -eq 0 ] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# start_nginx DIR: nginx from Debian on a free port of 127.0.0.1, one worker, 204 for every
# request, keep-alive without limit; sets $nginx_port and $nginx_pid. The caller kills it.
start_nginx() {
  local dir=$1
  nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_buffer_size 64k;
  keepalive_requests 10000000;
  server { listen 127.0.0.1:$nginx_port; location / { return 204; } }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  nginx_pid=$!
  for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null && break; sleep 0.1; done
}

# goal TEXT MET: one line of a benchmark's verdict, "met" or "MISSED" then TEXT (the figure, its
# baseline and the goal); MET is 1 or 0. A miss sets goal_status to 1, the script's exit status.
goal_status=0
goal() {
  if [ "$2" = 1 ]; then echo "met     $1"; else echo "MISSED  $1"; goal_status=1; fi
}

# at_least A B: 1 when A >= B (numbers, decimals allowed), else 0.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
