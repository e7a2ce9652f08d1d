"""Social links, shown on a host page or shared silently with people met."""
