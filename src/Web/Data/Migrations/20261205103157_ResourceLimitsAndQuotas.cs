using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class ResourceLimitsAndQuotas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "MaxBytesPerSecond",
                table: "VmDisks",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "MaxIops",
                table: "VmDisks",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "CpuLimit",
                table: "VirtualMachines",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "CpuUnits",
                table: "VirtualMachines",
                type: "INTEGER",
                nullable: false,
                defaultValue: 100); // existing VMs get the default share (VirtualMachine.CpuUnits)

            migrationBuilder.AddColumn<string>(
                name: "OwnerId",
                table: "VirtualMachines",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PidsLimit",
                table: "VirtualMachines",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OwnerId",
                table: "Images",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ResourceQuotas",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true),
                    GroupId = table.Column<Guid>(type: "TEXT", nullable: true),
                    MaxVms = table.Column<int>(type: "INTEGER", nullable: true),
                    MaxVcpus = table.Column<int>(type: "INTEGER", nullable: true),
                    MaxMemoryMiB = table.Column<long>(type: "INTEGER", nullable: true),
                    MaxDiskBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    MaxImageBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ResourceQuotas", x => x.Id);
                    table.CheckConstraint("CK_ResourceQuotas_OneHolder", "(\"UserId\" IS NULL) <> (\"GroupId\" IS NULL)");
                    table.ForeignKey(
                        name: "FK_ResourceQuotas_AccessGroups_GroupId",
                        column: x => x.GroupId,
                        principalTable: "AccessGroups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ResourceQuotas_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ResourceQuotas_GroupId",
                table: "ResourceQuotas",
                column: "GroupId",
                unique: true,
                filter: "\"GroupId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ResourceQuotas_UserId",
                table: "ResourceQuotas",
                column: "UserId",
                unique: true,
                filter: "\"UserId\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ResourceQuotas");

            migrationBuilder.DropColumn(
                name: "MaxBytesPerSecond",
                table: "VmDisks");

            migrationBuilder.DropColumn(
                name: "MaxIops",
                table: "VmDisks");

            migrationBuilder.DropColumn(
                name: "CpuLimit",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "CpuUnits",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "OwnerId",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "PidsLimit",
                table: "VirtualMachines");

            migrationBuilder.DropColumn(
                name: "OwnerId",
                table: "Images");
        }
    }
}
