"""The tiny, fake files the `finished` fixture stores as its video and poster."""

VIDEO = b"\x00\x00\x00\x18ftypisom"  # 12 bytes
POSTER = b"\xff\xd8\xff"
