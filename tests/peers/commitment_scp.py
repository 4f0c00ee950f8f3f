"""A pynetdicom Storage Commitment (Push Model) SCP for dimse's interop tests.

Usage: commitment_scp.py PORT [--later REQUESTOR_AE REQUESTOR_PORT] KNOWN_UID...

Answers N-ACTION requests, then sends the report as an N-EVENT-REPORT: instances whose SOP
Instance UID is among KNOWN_UID are committed, the others fail with reason 0x0112 (no such
object instance). The report goes on the same association, or with --later on a new one that
this SCP opens (calling AE COMMITSCP) to the requestor at 127.0.0.1:REQUESTOR_PORT
(PS3.4 J.3.3). Prints "report sent, response N" (same association) or "report sent on a new
association, response 0xNNNN" / "report not sent: ..." (--later).
"""

import sys
import threading

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import StorageCommitmentPushModel

port = int(sys.argv[1])
args = sys.argv[2:]
later = None
if args[:1] == ["--later"]:
    later = (args[1], int(args[2]))
    args = args[3:]
known = set(args)


def event_information(request):
    """The report's data set and its event type (1 all committed, 2 some failed)."""
    ds = Dataset()
    ds.TransactionUID = request.TransactionUID
    ok, failed = [], []
    for item in request.ReferencedSOPSequence:
        ref = Dataset()
        ref.ReferencedSOPClassUID = item.ReferencedSOPClassUID
        ref.ReferencedSOPInstanceUID = item.ReferencedSOPInstanceUID
        if item.ReferencedSOPInstanceUID in known:
            ok.append(ref)
        else:
            ref.FailureReason = 0x0112
            failed.append(ref)
    if ok:
        ds.ReferencedSOPSequence = ok
    if failed:
        ds.FailedSOPSequence = failed
    return ds, 2 if failed else 1


def report_same(assoc, request):
    ds, event_type = event_information(request)
    status = assoc.send_n_event_report(
        ds, event_type, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1"
    )
    print("report sent, response", status[0].Status if status[0] else None, flush=True)


def report_later(request):
    ds, event_type = event_information(request)
    requestor_ae, requestor_port = later
    ae = AE(ae_title="COMMITSCP")
    ae.add_requested_context(StorageCommitmentPushModel)
    assoc = ae.associate("127.0.0.1", requestor_port, ae_title=requestor_ae)
    if not assoc.is_established:
        print("report not sent: association to the requestor failed", flush=True)
        return
    status = assoc.send_n_event_report(
        ds, event_type, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1"
    )
    assoc.release()
    answer = status[0].Status if status and status[0] else None
    if answer is None:
        print("report not sent: no response", flush=True)
    else:
        print(f"report sent on a new association, response 0x{answer:04X}", flush=True)


def on_action(event):
    request = event.action_information
    print("N-ACTION from", event.assoc.requestor.ae_title, flush=True)
    # The report may only follow the N-ACTION response: send it from another thread.
    if later:
        threading.Timer(0.2, report_later, args=(request,)).start()
    else:
        threading.Timer(0.2, report_same, args=(event.assoc, request)).start()
    return 0x0000, None


ae = AE(ae_title="COMMITSCP")
ae.add_supported_context(StorageCommitmentPushModel)
print("listening", flush=True)
ae.start_server(("127.0.0.1", port), evt_handlers=[(evt.EVT_N_ACTION, on_action)])
