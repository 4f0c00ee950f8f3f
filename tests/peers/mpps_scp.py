"""A pynetdicom Modality Performed Procedure Step SCP for dimse's interop tests.

Usage: mpps_scp.py PORT [AE_TITLE]

Keeps the MPPS instances in memory (PS3.4 Annex F.7):

* N-CREATE (Modality Performed Procedure Step): the Performed Procedure Step Status must be
  "IN PROGRESS" (else 0x0106 invalid attribute value); an instance UID already held fails with
  0x0111 (duplicate SOP instance). Without an Affected SOP Instance UID in the request the SCP
  assigns one and the response names it.
* N-SET: unknown instance 0x0112; an instance no longer IN PROGRESS 0x0110 (processing failure,
  "may no longer be updated"); a status other than IN PROGRESS, COMPLETED or DISCONTINUED 0x0106.
  Otherwise the modifications are applied (an empty value removes the attribute).
* N-GET (on the MPPS class or the MPPS Retrieve class): the requested attributes of a held
  instance (all of them when none are named); unknown instance 0x0112.

Every request is printed as one line, `RECEIVED {json}`, with "service" (N-CREATE, N-SET,
N-GET), "calling_ae", "sop_class", "instance", "status" (the status answered) and "data_set"
(the request's data set as DICOM JSON, PS3.18 F.2) or, for N-GET, "attributes" (the requested
tags as "GGGGEEEE" strings).
"""

import json
import sys
import threading

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    ModalityPerformedProcedureStep,
    ModalityPerformedProcedureStepRetrieve,
)

port = int(sys.argv[1])
ae_title = sys.argv[2] if len(sys.argv) > 2 else "MPPSSCP"

instances = {}
lock = threading.Lock()


def show(service, event, instance, status, **extra):
    record = {
        "service": service,
        "calling_ae": event.assoc.requestor.ae_title,
        "sop_class": str(getattr(event.request, "AffectedSOPClassUID", None)
                         or getattr(event.request, "RequestedSOPClassUID", None)),
        "instance": instance,
        "status": status,
    }
    record.update(extra)
    print("RECEIVED " + json.dumps(record), flush=True)


def on_create(event):
    ds = event.attribute_list
    instance = event.request.AffectedSOPInstanceUID
    assigned = instance is None
    if assigned:
        instance = generate_uid(prefix="2.25.")
    with lock:
        if instance in instances:
            status = 0x0111
        elif ds.get("PerformedProcedureStepStatus") != "IN PROGRESS":
            status = 0x0106
        else:
            status = 0x0000
            instances[instance] = ds
    show("N-CREATE", event, str(instance), status, data_set=ds.to_json_dict())
    if status != 0x0000:
        return status, None
    reply = Dataset()
    reply.PerformedProcedureStepStatus = ds.PerformedProcedureStepStatus
    if assigned:
        reply.AffectedSOPInstanceUID = instance
    return status, reply


def on_set(event):
    mods = event.modification_list
    instance = str(event.request.RequestedSOPInstanceUID)
    with lock:
        held = instances.get(instance)
        new_status = mods.get("PerformedProcedureStepStatus")
        if held is None:
            status = 0x0112
        elif held.get("PerformedProcedureStepStatus") != "IN PROGRESS":
            status = 0x0110
        elif new_status is not None and new_status not in (
            "IN PROGRESS",
            "COMPLETED",
            "DISCONTINUED",
        ):
            status = 0x0106
        else:
            status = 0x0000
            for elem in mods:
                if elem.value in (None, "", b""):
                    if elem.tag in held:
                        del held[elem.tag]
                else:
                    held[elem.tag] = elem
    show("N-SET", event, instance, status, data_set=mods.to_json_dict())
    if status != 0x0000:
        return status, None
    return status, mods


def on_get(event):
    instance = str(event.request.RequestedSOPInstanceUID)
    tags = event.request.AttributeIdentifierList
    # pynetdicom gives a single tag for a one-element list.
    if tags is None:
        tags = []
    elif not isinstance(tags, list):
        tags = [tags]
    with lock:
        held = instances.get(instance)
        status = 0x0112 if held is None else 0x0000
        reply = None
        if held is not None:
            reply = Dataset()
            for elem in held:
                if not tags or elem.tag in tags:
                    reply[elem.tag] = elem
    show(
        "N-GET",
        event,
        instance,
        status,
        attributes=[f"{int(t):08X}" for t in tags],
    )
    return status, reply


ae = AE(ae_title=ae_title)
ae.add_supported_context(ModalityPerformedProcedureStep)
ae.add_supported_context(ModalityPerformedProcedureStepRetrieve)
print("listening", flush=True)
ae.start_server(
    ("127.0.0.1", port),
    evt_handlers=[
        (evt.EVT_N_CREATE, on_create),
        (evt.EVT_N_SET, on_set),
        (evt.EVT_N_GET, on_get),
    ],
)
