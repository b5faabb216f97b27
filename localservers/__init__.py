"""
Real servers on loopback for the tests and the benchmarks: nginx, Twisted's
web server, the trustme certificate authority and the files they serve
(L{servers}), and Debian's tinyproxy (L{tinyproxy}).  Not installed: the
wheel holds only C{httpchart.*}.
"""
