"""Rule packs: data that the cleaning stages apply (patterns with names, kinds and scopes)."""
