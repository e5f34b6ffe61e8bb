#!/usr/bin/env bash
# Makes the demo clip every demo title plays (web-bridge/src/main/resources/media/demo.mp4): a moving
# test pattern with the clip's running time burned in at millisecond precision, so that two screens
# side by side show how far apart they are. H.264 (plays in every browser), no audio (so a muted
# autoplay needs no gesture and every playbackRate acts), a keyframe every 0.5 s (seeks land fast).
# Needs Debian's ffmpeg (apt-get install ffmpeg) and DejaVu fonts; the clip is committed, so neither
# is needed to run the platform.
set -euo pipefail
cd "$(dirname "$0")"
OUT=../src/main/resources/media/demo.mp4
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf
SECONDS_LONG=60
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=480x270:rate=30:duration=${SECONDS_LONG}" \
  -vf "drawbox=x=60:y=85:w=360:h=100:color=black@0.75:t=fill,\
drawtext=fontfile=${FONT}:fontsize=48:fontcolor=white:x=(w-text_w)/2:y=100:text='%{pts\:hms}',\
drawtext=fontfile=${FONT}:fontsize=20:fontcolor=white:x=(w-text_w)/2:y=155:text='frame %{frame_num}'" \
  -c:v libx264 -preset slow -crf 34 -pix_fmt yuv420p -g 15 -keyint_min 15 -sc_threshold 0 \
  -movflags +faststart -an "$OUT"
ls -l "$OUT"
