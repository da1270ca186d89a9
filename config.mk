# metricsd build knobs. Override any of them on the make command line.

VERSION = 0.1.0

PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man

CC = cc
PKG_CONFIG = pkg-config

# Libraries found through pkg-config (Debian 12 package in brackets):
# libzmq [libzmq3-dev], libuv [libuv1-dev], msgpack [libmsgpack-dev],
# inih [libinih-dev], jansson [libjansson-dev],
# libmicrohttpd [libmicrohttpd-dev], oniguruma [libonig-dev],
# libutf8proc [libutf8proc-dev], libpcre2-8 [libpcre2-dev], check [check].
PKGS = libuv msgpack inih jansson oniguruma libutf8proc libpcre2-8
INCS := $(shell $(PKG_CONFIG) --cflags $(PKGS) libzmq libmicrohttpd 2>/dev/null)
LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm

# libmicrohttpd is not linked: serve loads it with dlopen() as it starts
# (src/http_mhd.c), so that the other modes do not pay for loading it and
# GnuTLS. Its header is used for types and constants; its name is the
# SONAME of the library pkg-config finds, read with objdump [binutils]
# (libmicrohttpd.so.12 on Debian 12). dlopen() is in libc since glibc
# 2.34; with an older one add -ldl to LIBS.
OBJDUMP = objdump
MHD_LIBDIR := $(shell $(PKG_CONFIG) --variable=libdir libmicrohttpd 2>/dev/null)
MHD_SONAME := $(shell $(OBJDUMP) -p $(MHD_LIBDIR)/libmicrohttpd.so 2>/dev/null | \
	sed -n 's/^ *SONAME *//p')

# libzmq is not linked either, for the same reason (it brings libstdc++,
# libsodium, libpgm, libnorm and Kerberos): src/zmq_load.c defines the
# zmq_*() functions metricsd calls and loads the library with dlopen()
# at the first call, so that only the modes that use ZeroMQ load it.
# Its header is used as if it were linked; its name is the SONAME of
# the library pkg-config finds (libzmq.so.5 on Debian 12). The load
# runs under pthread_once(), in libc since glibc 2.34 as dlopen() is.
ZMQ_LIBDIR := $(shell $(PKG_CONFIG) --variable=libdir libzmq 2>/dev/null)
ZMQ_SONAME := $(shell $(OBJDUMP) -p $(ZMQ_LIBDIR)/libzmq.so 2>/dev/null | \
	sed -n 's/^ *SONAME *//p')

CHECK_INCS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

# Chart.js, embedded in the dashboard page of serve [libjs-chart.js].
CHARTJS = /usr/share/javascript/chart.js/chart.min.js

CPPFLAGS = -D_GNU_SOURCE -DVERSION=\"$(VERSION)\" \
	-DHTTP_MHD_SONAME=\"$(MHD_SONAME)\" -DZMQ_LOAD_SONAME=\"$(ZMQ_SONAME)\"
CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror
LDFLAGS =

# Extra flags for the sanitizer build (make check-asan).
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
