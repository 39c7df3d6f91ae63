"""The pause fence: the gate, the fenced publisher, the saved pause."""
