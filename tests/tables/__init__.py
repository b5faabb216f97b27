"""
The hand-written transition tables: the independent specification that each
declared chart (L{transition_table} for the connection, L{parsing_table},
L{body_table}, L{tunnel_table}, L{pool_table}) and its running model are
checked against.  They are written by hand on purpose and never derived from
the charts: a table copied from a declaration would agree with any mistake in
it.
"""
