#!/usr/bin/env bash
# Install Debian's Chromium for the web plugin's browser tests. Playwright drives it
# through executable_path, so no browser is downloaded. A CJK font makes Chinese text
# render in the screenshots the tests save under test-artifacts/.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-zenhei)
if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
chromium --version
