"""The store edge hub: settings, composition root, application services, salon-edge CLI."""
