"""The UMUD web application: HTML pages, RDF views and the SPARQL endpoint."""
