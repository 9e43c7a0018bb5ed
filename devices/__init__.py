"""The hardware abstraction layer: device ports, one adapter per library, a fake per port."""
