#!/bin/sh
# keepalived's check for a ballast that runs but does not answer: GET /ready on the admin
# API (no token needed) must answer 200 within a second.
exec /usr/bin/curl -sf -m 1 -o /dev/null http://127.0.0.1:9901/ready
