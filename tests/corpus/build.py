"""Writes the golden corpus's input files (tests/corpus/files/) from the rows below.

The files are committed; this script is how they were made and how to change one. The rows are
hand-made to look like what real systems export: preambles, stacked and side-by-side tables,
two-row headers, hidden columns, totals, odd encodings and delimiters, and columns that name
other parties (employers, vendors, guardians, approvers), dates and codes whose headers start
with First/Last, IDs and cost centers. What each file should map to is written, by hand and
separately, in tests/corpus/expected/<file>.json (never derived from the engine's output).

    python tests/corpus/build.py   # rewrites tests/corpus/files/
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

FILES = Path(__file__).parent / "files"

Row = Sequence[Any]

# Twenty people, used in different shapes by different files (first, middle, last, email, phone,
# date of birth, hire date, department, title).
PEOPLE = [
    ("Alex", "J", "Patel", "alex.patel@prairiebuild.ca", "(306) 555-0101", "1984-02-01",
     "2012-03-05", "Field Services", "Journeyman Electrician"),
    ("Mary", "", "O'Neil", "moneil@acme-electric.com", "306-555-0102", "1979-11-23",
     "2009-06-15", "Estimating", "Estimator"),
    ("Jan", "", "van der Berg", "jan.vdberg@northwind.io", "306.555.0103", "1990-07-04",
     "2018-01-08", "Field Services", "Apprentice"),
    ("Sean", "P", "McDonald", "sean.mcdonald@prairiebuild.ca", "(306) 555-0104",
     "1969-12-31", "1995-04-03", "Operations", "Foreman"),
    ("Luc", "", "St-Pierre", "luc.stpierre@acme-electric.com", "+1 306 555 0105",
     "1975-05-05", "2001-09-10", "Safety", "Safety Officer"),
    ("Zoë", "", "Álvarez", "zoe.alvarez@northwind.io", "3065550106", "1993-03-17",
     "2020-02-24", "Finance", "Payroll Clerk"),
    ("Øyvind", "K", "Hansen", "oyvind.hansen@prairiebuild.ca", "(306) 555-0107",
     "1988-08-08", "2015-10-19", "Engineering", "Project Engineer"),
    ("Priya", "", "Raman", "priya.raman@acme-electric.com", "306-555-0108", "1991-01-30",
     "2019-05-27", "Engineering", "Designer"),
    ("Kwame", "A", "Mensah", "kwame.mensah@northwind.io", "(306) 555-0109", "1982-10-12",
     "2011-11-14", "Operations", "Dispatcher"),
    ("Sofia", "", "García", "sofia.garcia@prairiebuild.ca", "306 555 0110", "1996-06-21",
     "2021-08-02", "Human Resources", "HR Generalist"),
    ("Chen", "", "Wei", "chen.wei@acme-electric.com", "(306) 555-0111", "1987-04-09",
     "2014-03-31", "Finance", "Controller"),
    ("Fatima", "Z", "Khan", "fatima.khan@northwind.io", "306-555-0112", "1994-09-02",
     "2022-01-10", "Field Services", "Apprentice"),
    ("Tom", "", "Nguyen", "tom.nguyen@prairiebuild.ca", "(306) 555-0113", "1972-02-29",
     "1998-07-20", "Operations", "Superintendent"),
    ("Ana", "L", "Souza", "ana.souza@acme-electric.com", "306.555.0114", "1999-12-12",
     "2023-04-17", "Estimating", "Junior Estimator"),
    ("Ian", "", "MacLeod", "ian.macleod@northwind.io", "(306) 555-0115", "1965-07-19",
     "1990-01-02", "Safety", "Trainer"),
    ("Grace", "", "Okafor", "grace.okafor@prairiebuild.ca", "306-555-0116", "1985-05-25",
     "2013-09-09", "Human Resources", "HR Manager"),
    ("Hiro", "", "Tanaka", "hiro.tanaka@acme-electric.com", "(306) 555-0117", "1980-03-03",
     "2007-02-12", "Engineering", "Lead Engineer"),
    ("Nadia", "", "Petrova", "nadia.petrova@northwind.io", "306 555 0118", "1992-11-11",
     "2017-06-05", "Finance", "Accountant"),
    ("Omar", "", "Haddad", "omar.haddad@prairiebuild.ca", "(306) 555-0119", "1978-08-30",
     "2005-05-16", "Field Services", "Journeyman Electrician"),
    ("Lena", "M", "Schmidt", "lena.schmidt@acme-electric.com", "306-555-0120", "1989-01-01",
     "2016-12-01", "Operations", "Coordinator"),
]  # fmt: skip

EMPLOYERS = ["Prairie Build Systems", "Acme Electric Ltd", "Northwind Construction Inc"]
STATUSES = ["Active", "Active", "Inactive", "Active", "On Leave"]


def mdy(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{month}/{day}/{year}"


def dmy(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def as_date(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def write_csv(
    name: str, rows: Sequence[Row], *, encoding: str = "utf-8", delimiter: str = ","
) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    (FILES / name).write_bytes(buffer.getvalue().encode(encoding))


def write_xlsx(
    name: str,
    sheets: dict[str, Sequence[Row]],
    *,
    hidden: dict[str, Sequence[str]] | None = None,
    merges: dict[str, Sequence[str]] | None = None,
) -> None:
    workbook = Workbook()
    for default in list(workbook.worksheets):
        workbook.remove(default)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
        for letter in (hidden or {}).get(title, ()):
            sheet.column_dimensions[letter].hidden = True
        for ref in (merges or {}).get(title, ()):
            sheet.merge_cells(ref)
    workbook.save(FILES / name)


# -- CSV files -----------------------------------------------------------------------------------


def union_roster() -> None:
    rows: list[Row] = [
        ["IBEW Local 2038 - Membership Roster"],
        ["Printed 11/03/2026 by the union office"],
        [],
        ["Member #", "Name", "Employer", "Status", "Local", "Classification", "Last Audit Date",
         "Email", "Phone", "Notes"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[:12]):
        name = f"{p[2].upper()}, {p[0]}" if i % 2 else f"{p[2]}, {p[0].upper()}"
        rows.append(
            [f"M{40210 + i}", name, EMPLOYERS[i % 3], STATUSES[i % 5], "2038",
             p[8].split()[-1], mdy(p[6]), p[3], p[4], "dues arrears" if i == 4 else ""]
        )  # fmt: skip
    write_csv("union_roster_local2038.csv", rows)


def payroll_remittance() -> None:
    rows: list[Row] = [
        ["Emp No", "Last Name", "First Name", "MI", "SSN", "Hours", "Gross Wages",
         "Dues Deducted", "Pay Period End", "Hire Dt", "Employer"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[2:16]):
        rows.append(
            [str(5100 + i), p[2], p[0], p[1], f"***-**-{1000 + i * 7}", f"{72 + i % 9},5",
             f"{2800 + i * 37},{i % 10}0", f"{41 + i % 4},15", "31.10.2026", dmy(p[6]),
             EMPLOYERS[i % 3]]
        )  # fmt: skip
    rows.append(["Total", "", "", "", "", "1 122,0", "43 918,50", "588,10", "", "", ""])
    write_csv("payroll_remittance_oct.csv", rows, encoding="cp1252", delimiter=";")


def outlook_contacts() -> None:
    rows: list[Row] = [
        ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department",
         "Job Title", "Business Street", "Business City", "Business Phone", "Home Phone",
         "Mobile Phone", "E-mail Address", "E-mail 2 Address", "Birthday", "Notes"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[:10]):
        rows.append(
            ["Ms." if i % 2 else "Mr.", p[0], p[1], p[2], "Jr." if i == 3 else "",
             EMPLOYERS[i % 3], p[7], p[8], f"{100 + i} Main St", "Regina",
             f"(306) 555-{2000 + i}", f"(306) 555-{3000 + i}", p[4], p[3],
             f"{p[0].lower()}@home.example", mdy(p[5]), ""]
        )  # fmt: skip
    write_csv("contacts_outlook_export.csv", rows)


def workday_export() -> None:
    rows: list[Row] = [
        ["Worker_ID", "Legal_First_Name", "Legal_Last_Name", "Preferred_Name", "Work_Email",
         "Personal_Email", "Hire_Date", "Termination_Date", "Cost_Center", "Supervisor_Name",
         "Business_Title", "Location"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[4:18]):
        boss = PEOPLE[(i + 7) % 20]
        rows.append(
            [f"W{100233 + i}", p[0], p[2], p[0][:3], p[3], f"{p[0].lower()}{i}@gmail.com", p[6],
             "2026-09-30" if i == 5 else "", f"CC-{410 + i % 4}", f"{boss[0]} {boss[2]}", p[8],
             "Regina" if i % 2 else "Saskatoon"]
        )  # fmt: skip
    write_csv("workday_worker_export.csv", rows)


def vendor_master() -> None:
    vendors = [
        ("Prairie Build Systems", "Alex Patel"), ("Acme Electric Ltd", "Mary O'Neil"),
        ("Northwind Construction Inc", "Jan van der Berg"), ("Globex Supply Co", "Tom Nguyen"),
        ("Hooli Logistics", "Grace Okafor"), ("Initech Software", "Chen Wei"),
        ("Umbrella Safety Corp", "Luc St-Pierre"), ("Stark Mechanical", "Omar Haddad"),
    ]  # fmt: skip
    rows: list[Row] = [
        ["Vendor ID", "Vendor Name", "Contact Name", "Contact Email", "Contact Phone", "Tax ID",
         "Payment Terms", "Address", "City", "State", "Zip"],
    ]  # fmt: skip
    for i, (vendor, contact) in enumerate(vendors):
        first, last = contact.split(" ", 1)
        rows.append(
            [f"V-{3001 + i}", vendor, contact,
             f"{first.lower()}.{last.split()[-1].lower().replace(chr(39), '')}@vendor{i}.com",
             f"(800) 555-{1100 + i}", f"{81 + i}-{4400000 + i * 313}", "Net 30",
             f"{20 + i} Industrial Rd", "Regina", "SK", f"S4P {i}A{i}"]
        )  # fmt: skip
    write_csv("vendor_master.csv", rows)


def student_roster() -> None:
    rows: list[Row] = [
        ["Student ID", "Student First Name", "Student Last Name", "DOB", "Grade", "Homeroom",
         "Guardian Name", "Guardian Email", "Guardian Phone", "Student Email"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[:14]):
        parent = PEOPLE[(i + 10) % 20]
        rows.append(
            [f"S{2026001 + i}", p[0], p[2], f"{2012 + i % 5}-0{1 + i % 9}-1{i % 9}",
             str(7 + i % 5), f"R{101 + i % 4}", f"{parent[0]} {p[2]}", parent[3], parent[4],
             f"{p[0].lower()}{i}@students.example.org"]
        )  # fmt: skip
    write_csv("student_roster_with_guardians.csv", rows)


def timesheet() -> None:
    rows: list[Row] = [
        ["Employee #", "Employee Name", "Shift Date", "First Shift Start", "Last Shift End",
         "Hours", "Supervisor", "Approved By", "Approver Email"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[:12]):
        boss = PEOPLE[15]
        rows.append(
            [str(1001 + i), f"{p[0]} {p[2]}", f"2026-11-{2 + i % 5:02d}",
             f"0{6 + i % 3}:00", f"{14 + i % 4}:30", str(8 + i % 3 * 0.5),
             f"{boss[0]} {boss[2]}", f"{boss[0]} {boss[2]}", boss[3]]
        )  # fmt: skip
    write_csv("timesheet_week_45.csv", rows)


def benefits() -> None:
    rows: list[Row] = [
        ["Employee ID", "Last Name", "First Name", "DOB", "Plan", "Coverage Start Date",
         "Coverage End Date", "Dependent Name", "Dependent DOB", "Beneficiary Name",
         "Spouse Name"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[3:15]):
        other = PEOPLE[(i + 9) % 20]
        rows.append(
            [f"E{7700 + i}", p[2], p[0], p[5], ["Basic", "Family", "Single"][i % 3],
             "2026-01-01", "", f"{other[0]} {p[2]}" if i % 3 == 1 else "",
             "2015-04-04" if i % 3 == 1 else "", f"{other[0]} {other[2]}",
             f"{other[0]} {p[2]}" if i % 2 else ""]
        )  # fmt: skip
    write_csv("benefits_enrollment_2026.csv", rows)


def crm_leads() -> None:
    rows: list[Row] = [
        ["Lead Owner", "First Name", "Last Name", "Company", "Title", "Email", "Phone",
         "Lead Source", "Created Date", "Last Activity Date"],
    ]  # fmt: skip
    titles = ["VP Operations", "Purchasing Manager", "Owner", "Site Supervisor", "CFO"]
    for i, p in enumerate(PEOPLE[5:17]):
        rows.append(
            ["Grace Okafor" if i % 2 else "Hiro Tanaka", p[0], p[2], EMPLOYERS[i % 3],
             titles[i % 5], p[3], p[4], ["Web", "Trade show", "Referral"][i % 3],
             f"2026-0{1 + i % 9}-15", f"2026-1{i % 2}-0{1 + i % 9}"]
        )  # fmt: skip
    write_csv("crm_leads_q4.csv", rows)


def new_hires_utf16() -> None:
    rows: list[Row] = [
        ["Badge", "Full Name", "E-mail", "Mobile", "Start Date", "Dept", "Position", "Manager"],
    ]
    for i, p in enumerate(PEOPLE[5:15]):
        rows.append(
            [f"B-{880 + i}", f"{p[0]} {p[2]}", p[3], p[4], mdy(p[6]), p[7], p[8],
             f"{PEOPLE[15][0]} {PEOPLE[15][2]}"]
        )  # fmt: skip
    write_csv("new_hires_unicode_text.txt", rows, encoding="utf-16", delimiter="\t")


def volunteer_form() -> None:
    rows: list[Row] = [
        ["Timestamp", "Email Address", "What is your full name?", "Phone number",
         "Which shifts can you work?", "Emergency contact name", "Emergency contact phone",
         "T-shirt size"],
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[8:20]):
        other = PEOPLE[(i + 3) % 20]
        rows.append(
            [f"2026/10/{10 + i} 09:{10 + i}:00", p[3], f"{p[0]} {p[2]}", p[4],
             "Saturday morning, Sunday" if i % 2 else "Friday evening",
             f"{other[0]} {other[2]}", other[4], ["S", "M", "L", "XL"][i % 4]]
        )  # fmt: skip
    write_csv("volunteer_signup_form.csv", rows)


def payroll_register() -> None:
    header = ["EMPLOYEE NO", "EMPLOYEE NAME", "DEPT", "REG HRS", "OT HRS", "GROSS PAY",
              "NET PAY", "CHECK DATE"]  # fmt: skip
    rows: list[Row] = [["PAYROLL REGISTER", "", "", "", "", "", "", ""], header]
    for i, p in enumerate(PEOPLE[:16]):
        if i == 9:
            rows.append(header)  # the next page's header, repeated by the export
        rows.append(
            [f"{200 + i:05d}", f"{p[2].upper()}, {p[0].upper()}", p[7][:4].upper(),
             f"{80 - i % 3:.2f}", f"{i % 4 * 1.5:.2f}", f"{3100 + i * 55:.2f}",
             f"{2400 + i * 41:.2f}", "11/14/2026"]
        )  # fmt: skip
    rows.append(["TOTALS", "", "", "1272.00", "36.00", "56200.00", "43320.00", ""])
    write_csv("payroll_register_export.txt", rows, delimiter="|")


def member_directory_blank_headers() -> None:
    rows: list[Row] = [["Name", "", "Phone", "Joined", ""]]
    for i, p in enumerate(PEOPLE[:10]):
        rows.append([f"{p[0]} {p[2]}", p[3], p[4], mdy(p[6]), "board member" if i == 2 else ""])
    write_csv("member_directory.csv", rows)


def french_contacts() -> None:
    rows: list[Row] = [
        ["Matricule", "Nom", "Prénom", "Courriel", "Téléphone", "Date de naissance", "Service"]
    ]
    for i, p in enumerate(PEOPLE[:10]):
        rows.append([f"F{310 + i}", p[2], p[0], p[3], p[4], dmy(p[5]), p[7]])
    write_csv("contacts_fr_latin1.csv", rows, encoding="latin-1", delimiter=";")


def club_two_row_header() -> None:
    rows: list[Row] = [
        ["Member", "", "Contact", "", "Membership", ""],
        ["First", "Last", "Email", "Phone", "Since", "Type"],
    ]
    for i, p in enumerate(PEOPLE[6:18]):
        rows.append([p[0], p[2], p[3], p[4], str(2010 + i), ["Full", "Junior", "Senior"][i % 3]])
    write_csv("curling_club_members.csv", rows)


def customer_list() -> None:
    companies = ["Acme Ltd", "Globex Corporation", "Initech Inc", "Umbrella Holdings"]
    companies += ["Hooli Systems", "Stark Industries", "Wayne Enterprises", "Wonka Foods"]
    rows: list[Row] = [
        ["Customer #", "Name", "Contact", "Email", "Phone", "Account Manager", "Credit Limit"]
    ]
    for i, company in enumerate(companies):
        p = PEOPLE[i + 2]
        rows.append(
            [f"C{9000 + i}", company, f"{p[0]} {p[2]}", p[3], p[4], "Hiro Tanaka",
             f"${(i + 1) * 5000:,}"]
        )  # fmt: skip
    write_csv("customer_accounts.csv", rows)


# -- workbooks -----------------------------------------------------------------------------------


def quarterly_roster() -> None:
    rows: list[Row] = [
        ["Quarterly headcount - Q3 2026", None, None, None, None, None, None],
        ["Prepared by HR", None, None, None, None, None, None],
        [None, None, None, None, None, None, None],
        ["Employee", None, "Contact", None, None, None, None],
        ["First", "Last", "Email", "Phone", "SSN", "Hire Date", "Dept"],
    ]
    for i, p in enumerate(PEOPLE[:15]):
        rows.append(
            [p[0].upper() if i % 4 == 0 else p[0], p[2], p[3], p[4], f"***-**-{4000 + i}",
             as_date(p[6]), p[7]]
        )  # fmt: skip
    rows.append(["Total", None, None, None, None, None, 15])
    write_xlsx(
        "quarterly_headcount.xlsx",
        {"Q3": rows},
        hidden={"Q3": ["E"]},
        merges={"Q3": ["A4:B4", "C4:D4"]},
    )


def multi_sheet_hr() -> None:
    readme: list[Row] = [["How to use this workbook"], ["One row per person. Do not edit IDs."]]
    active: list[Row] = [["ID", "Given Name", "Family Name", "Email", "Hire Date", "Job Title"]]
    for i, p in enumerate(PEOPLE[:11]):
        active.append([1001 + i, p[0], p[2], p[3], as_date(p[6]), p[8]])
    gone: list[Row] = [
        ["ID", "Given Name", "Family Name", "Last Day Worked", "Termination Reason",
         "Rehire Eligible"]
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[11:17]):
        reason = ["Resigned", "Retired", "Contract end"][i % 3]
        last_day = as_date(f"2026-0{1 + i}-15")
        gone.append([1101 + i, p[0], p[2], last_day, reason, "Yes" if i % 2 else "No"])
    lists: list[Row] = [["Departments"], ["Finance"], ["Operations"], ["Safety"]]
    write_xlsx(
        "hr_workbook_active_and_terminated.xlsx",
        {"Read me": readme, "Active": active, "Terminated": gone, "Lists": lists},
    )


def side_by_side() -> None:
    rows: list[Row] = [["Team North", None, None, None, "Team South", None, None]]
    rows.append(["Name", "Email", "Role", None, "Name", "Email", "Role"])
    for i in range(8):
        a, b = PEOPLE[i], PEOPLE[i + 10]
        rows.append([f"{a[0]} {a[2]}", a[3], a[8], None, f"{b[0]} {b[2]}", b[3], b[8]])
    write_xlsx("teams_side_by_side.xlsx", {"Teams": rows})


def stacked_departments() -> None:
    rows: list[Row] = []
    groups = {"Finance": PEOPLE[5:11], "Engineering": PEOPLE[11:17]}
    for name, people in groups.items():
        rows += [[f"Department: {name}"], [None]]
        rows.append(["Staff ID", "Surname", "Forename", "Work Phone", "Start Date"])
        for p in people:
            rows.append([f"ST{len(rows):03d}", p[2], p[0], p[4], as_date(p[6])])
        rows += [[None], [None]]
    write_xlsx("staff_by_department.xlsx", {"Staff": rows})


def payroll_with_employer() -> None:
    rows: list[Row] = [
        ["Worker #", "Employee Name", "Employer", "Employer Phone", "Hours", "Rate", "Gross",
         "Pay Date"]
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[:14]):
        rows.append(
            [float(31 + i), f"{p[0]} {p[2]}", EMPLOYERS[i % 3], "(306) 555-9000", 40.0 + i % 3,
             31.5, (40.0 + i % 3) * 31.5, as_date("2026-11-13")]
        )  # fmt: skip
    write_xlsx("contractor_payroll.xlsx", {"Payroll": rows})


def applicants() -> None:
    rows: list[Row] = [
        ["Candidate Name", "Candidate Email", "Phone #", "Applied On", "Referrer Name",
         "Referrer Email", "Position Applied For", "Recruiter"]
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[6:18]):
        ref = PEOPLE[(i + 2) % 6]
        rows.append(
            [f"{p[0]} {p[2]}", p[3], p[4], as_date(f"2026-10-{10 + i}"), f"{ref[0]} {ref[2]}",
             ref[3], ["Apprentice", "Estimator", "Foreman"][i % 3], "Grace Okafor"]
        )  # fmt: skip
    write_xlsx("applicant_tracking_export.xlsx", {"Applicants": rows})


def emergency_contacts() -> None:
    rows: list[Row] = [
        ["Employee ID", "Employee Name", "Emergency Contact Name", "Relationship",
         "Emergency Contact Phone", "Emergency Contact Email"]
    ]  # fmt: skip
    for i, p in enumerate(PEOPLE[:10]):
        other = PEOPLE[19 - i]
        rows.append(
            [f"E{100 + i}", f"{p[2]}, {p[0]}", f"{other[0]} {p[2]}",
             ["Spouse", "Parent", "Sibling"][i % 3], other[4], other[3]]
        )  # fmt: skip
    write_xlsx("emergency_contacts.xlsx", {"Contacts": rows})


def typed_cells() -> None:
    rows: list[Row] = [["ID", "First", "Last", "Cell", "DOB", "Start", "Active?"]]
    for i, p in enumerate(PEOPLE[:12]):
        digits = int("".join(ch for ch in p[4] if ch.isdigit())[-10:])
        dob: Any = as_date(p[5]) if i % 2 else (as_date(p[5]) - dt.datetime(1899, 12, 30)).days
        rows.append([float(1001 + i), p[0], p[2], digits, dob, as_date(p[6]), i % 3 != 0])
    write_xlsx("typed_cells_roster.xlsx", {"Roster": rows})


def accents() -> None:
    rows: list[Row] = [
        ["Employee Number", "Given Name", "Family Name", "E-Mail", "Telephone",
         "Date Of Birth", "Division"]
    ]  # fmt: skip
    names = [("José", "Álvarez"), ("Zoë", "Brontë"), ("Øyvind", "Ødegård"), ("Siân", "Llŷr")]
    names += [("Łukasz", "Żółć"), ("Nguyễn", "Văn An"), ("Ana", "São João"), ("Björn", "Öberg")]
    for i, (first, last) in enumerate(names):
        p = PEOPLE[i]
        rows.append([f"{7000 + i}", first, last, p[3], p[4], dmy(p[5]), p[7]])
    write_xlsx("international_staff.xlsx", {"Staff": rows})


def hidden_and_merged() -> None:
    rows: list[Row] = [
        ["Site roster", None, None, None, None, None],
        ["Person", None, None, "Pay", None, None],
        ["Badge Number", "Name", "Mobile", "Salary", "Bank Account", "Notes"],
    ]
    for i, p in enumerate(PEOPLE[:9]):
        rows.append([f"{5500 + i}", f"{p[0]} {p[2]}", p[4], 52000 + i * 1000,
                     f"****{1234 + i}", "lead hand" if i == 1 else None])  # fmt: skip
    rows.append(["Notes: salaries are annual, CAD", None, None, None, None, None])
    write_xlsx(
        "site_roster_hidden_pay.xlsx",
        {"Site": rows},
        hidden={"Site": ["D", "E"]},
        merges={"Site": ["A2:C2", "D2:F2"]},
    )


def inventory() -> None:
    rows: list[Row] = [
        ["SKU", "Item Name", "Qty", "Unit Price", "Supplier", "Last Received Date", "Bin"]
    ]
    items = ["Conduit 3/4in", "Breaker 20A", "Wire 12AWG 250ft", "Junction Box", "Cable Ties",
             "Fuse 15A", "Outlet GFCI", "Switch 3-way"]  # fmt: skip
    for i, item in enumerate(items):
        rows.append([f"SKU-{4400 + i}", item, 10 * (i + 1), 2.5 + i, EMPLOYERS[i % 3],
                     as_date(f"2026-0{1 + i}-0{1 + i}"), f"A{i}"])  # fmt: skip
    write_xlsx("warehouse_inventory.xlsx", {"Stock": rows})


def login_report() -> None:
    rows: list[Row] = [
        ["User", "Last Name", "First Name", "Last Login", "First Seen", "Email", "Logins"]
    ]
    for i, p in enumerate(PEOPLE[:10]):
        rows.append([f"{p[0][0]}{p[2]}".lower().replace("'", "").replace(" ", ""), p[2], p[0],
                     as_date(f"2026-11-2{i % 9}"), as_date(f"2025-0{1 + i % 9}-01"), p[3],
                     12 * (i + 1)])  # fmt: skip
    write_xlsx("portal_login_report.xlsx", {"Logins": rows})


def main() -> None:
    FILES.mkdir(exist_ok=True)
    for build in [
        union_roster,
        payroll_remittance,
        outlook_contacts,
        workday_export,
        vendor_master,
        student_roster,
        timesheet,
        benefits,
        crm_leads,
        new_hires_utf16,
        volunteer_form,
        payroll_register,
        member_directory_blank_headers,
        french_contacts,
        club_two_row_header,
        customer_list,
        quarterly_roster,
        multi_sheet_hr,
        side_by_side,
        stacked_departments,
        payroll_with_employer,
        applicants,
        emergency_contacts,
        typed_cells,
        accents,
        hidden_and_merged,
        inventory,
        login_report,
    ]:
        build()


if __name__ == "__main__":
    main()
