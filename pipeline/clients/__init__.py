"""Adapters around the servers edgewatch talks to. The rest of the code never builds clients."""
