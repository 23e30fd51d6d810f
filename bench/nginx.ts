/**
 * @module bench/nginx
 * The nginx peer: one worker, the same exact 90/10 split (weighted round robin, weights 9 and 1),
 * keep-alive to the upstreams and no access log. Request bodies stream as switchyard's do, responses are
 * buffered in memory only (never to temp files), and keep-alive limits are lifted on both sides so that
 * no side closes connections mid-run that the Node proxies would keep.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** nginx's version string, or undefined when nginx is not on PATH. */
export function nginxVersion(): string | undefined {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? 'unknown';
}

/** Writes the config under `dir` and returns the nginx arguments that run it in the foreground. */
export function nginxCommand(dir: string, port: number, upstreams: readonly string[]): string[] {
  mkdirSync(dir, { recursive: true });
  const [blue, green] = upstreams.map((u) => new URL(u).host);
  // A root master would hand the worker to "nobody", who cannot enter the bench's private temp directory.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const conf = `${user}daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  upstream bench {
    server ${blue} weight=9;
    server ${green} weight=1;
    keepalive 1024;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_request_buffering off;
      proxy_buffer_size 16k;
      proxy_buffers 16 16k;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  return ['-p', dir, '-e', join(dir, 'error.log'), '-c', file];
}
