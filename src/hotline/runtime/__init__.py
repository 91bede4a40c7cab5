"""What runs a node: the server and its worker supervisor (:mod:`.server`,
:mod:`.supervisor`), the sockets they listen on (:mod:`.sockets`), how they serve HTTP and
HTTPS (:mod:`.serving`), the background loops and their leases (:mod:`.loops`,
:mod:`.leases`) and the logs (:mod:`.logs`). It sits above the composition root
(``hotline.app``): it asks for a wired node and runs it; no adapter imports it."""
