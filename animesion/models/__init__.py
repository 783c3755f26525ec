"""Model zoo: a catalog of architectures, a spec per model, one factory and one output structure.

``catalog`` and ``spec`` need no torch (configs read them); ``factory.create_model(spec)`` builds.
"""
