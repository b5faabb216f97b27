"""
What the test modules share, and no tests: the rigs that drive a connection,
a tunnel or a pool by hand (L{rig}, L{tunnel_rig}), the exhaustive
event-sequence checkers and their input alphabets (L{checker},
L{sequences}, L{tunnel_checker}, L{pool_checker}), the scripted and faulty
servers' scripts (L{scripted}, L{faulty}), the hostile-server corpus, its
runner and its page (L{hostile_corpus}, L{hostile_client}, L{hostile_doc}),
the load driver (L{load}), the client-side kit of the end-to-end tests
(L{client_kit}) and the catalogue of deliberate differences from Twisted
(L{twisted_differences}).
"""
