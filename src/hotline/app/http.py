"""What the composition root builds over a :class:`Node` to be read and served: its
HTTP app (federation, ingest, operator API, console), the record an exercise reads, and
its incidents."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.app.node import Node

if TYPE_CHECKING:  # imported when built (see hotline.app.node)
    from fastapi import FastAPI

    from hotline.exercise.record import NodeRecord
    from hotline.services.incidents import Incidents


def federation_app(node: Node) -> FastAPI:
    """The node's HTTP app: the federation API, the track ingest endpoint, the operator
    API and the console, each request body held to its limit (:mod:`hotline.http.limits`)."""
    from hotline.api.app import create_api
    from hotline.api.context import ApiContext
    from hotline.api.metrics import Operations
    from hotline.api.operations import mount_operations
    from hotline.federation.api import FederationContext, create_app
    from hotline.federation.client import PREFIX
    from hotline.http.limits import BodyLimit, BodyLimits
    from hotline.ingest.api import mount_ingest
    from hotline.services.disclosures import Disclosures

    app = create_app(
        FederationContext(
            party=node.party,
            writer=node.writer,
            peers=node.peers,
            receiver=node.receiver,
            clock=node.writer.clock,
            skew=node.settings.request_skew,
            outages=node.outages,
            refusals=node.refusals,
            checkpoints=node.checkpoints,
        )
    )
    mount_ingest(app, node.ingest, node.settings.ingest_token)
    create_api(
        app,
        ApiContext(
            party=node.party,
            language=node.language,
            clock=node.writer.clock,
            store=node.store,
            peers=node.peers,
            accounts=node.accounts,
            directory=node.directory,
            messages=node.messages,
            catalogues=node.catalogues,
            translations=node.translations,
            notices=node.notices,
            contacts=node.contacts,
            relays=node.relays,
            watch=node.watch,
            pager=node.pager,
            rollcalls=node.rollcalls,
            agreements=node.agreements,
            awareness=node.awareness,
            outages=node.outages,
            checkpoints=node.checkpoints,
            disclosures=Disclosures(node.checkpoints, node.party, node.settings.witnesses),
            evidence=node.evidence,
            history=node.history,
        ),
    )
    settings = node.settings
    app.add_middleware(
        BodyLimits,
        limits=[
            BodyLimit(PREFIX + "/", settings.federation_body_limit, "federation_body_limit"),
            BodyLimit("/ingest/", settings.ingest_body_limit, "ingest_body_limit"),
            BodyLimit("/api/v1/auth/login", settings.login_body_limit, "login_body_limit"),
        ],
        default=BodyLimit("/", settings.api_body_limit, "api_body_limit"),
    )
    operations = Operations(
        node.party, node.writer, node.peers, node.contacts, node.awareness.picture, node.metrics
    )
    mount_operations(app, operations, settings.metrics_token)  # last: it counts every answer
    return app


def node_record(node: Node) -> NodeRecord:
    """What the exercise timeline and the after-action report read of ``node``."""
    from hotline.exercise.record import NodeRecord

    return NodeRecord(
        party=node.party,
        language=node.language,
        store=node.store,
        peers=node.peers,
        picture=node.awareness.picture,
        clock=node.writer.clock,
    )


def node_incidents(node: Node) -> Incidents:
    """Incidents as the node's own commands read them (the CLI, the demo): over the
    picture's tables and track history, proven with the node's witnesses."""
    from hotline.services.disclosures import Disclosures
    from hotline.services.incidents import Incidents
    from hotline.storage.picture import PictureStore

    disclosures = Disclosures(node.checkpoints, node.party, node.settings.witnesses)
    return Incidents(
        node.store, PictureStore(node.history.engine), node.history, node.notices, disclosures
    )
