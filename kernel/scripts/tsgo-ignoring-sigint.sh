#!/bin/sh
# Starts the native type checker (tsgo) with SIGINT ignored. It runs in the
# kernel's process group, and front ends interrupt a kernel by signalling that
# whole group: the checker must not die of it. Go keeps an ignored SIGINT ignored.
trap '' INT
exec "$NBFORGE_TSGO_EXE" "$@"
