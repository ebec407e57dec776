"""The packet path: a read-only model of what a guest's packets go through on the host.

Pure functions over facts (rulesets, routes, links, sockets): which tables and chains each
guest packet meets, in the kernel's order, and what they decide. Nothing here collects
facts or sends a packet."""
