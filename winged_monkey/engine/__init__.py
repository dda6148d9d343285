"""The engine: accounts, polling, inventory, actions and launches behind the portal's front."""
